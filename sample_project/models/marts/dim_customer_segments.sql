with customer_orders as (

    select * from {{ ref('int_customer_orders') }}

),

segmented as (

    select
        customer_id,
        case
            when number_of_orders >= 3 then 'loyal'
            when number_of_orders = 2 then 'repeat'
            else 'one_time'
        end as segment,
        -- DELIBERATE: `amt` where the vocabulary prefers `amount` -> naming/vocabulary (warning)
        lifetime_value as total_amt,
        -- DELIBERATE: a boolean without is_/has_ -> naming/column-type-suffix (warning)
        number_of_orders > 1 as repeat_buyer,
        -- DELIBERATE: a column the YAML does not document -> sql/undocumented-column (warning)
        number_of_orders

    from customer_orders

)

select * from segmented
