select
    event_id,
    user_id as customer_id,
    event,
    event_text,
    occurred_at
from {{ ref('raw_events') }}
