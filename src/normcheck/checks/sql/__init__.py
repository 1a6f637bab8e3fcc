"""SQL rules: what each model really produces, checked against the norms."""
