with events as (

    select * from {{ ref('stg_web_events') }}
    where event_text in ('Checkout Started', 'Order Completed')

)

select
    customer_id,
    count(*) filter (where event_text = 'Checkout Started') as checkouts_started,
    -- DELIBERATE: the plan spells it `Order Completed` -> tracking/unknown-event (error)
    count(*) filter (where event_text = 'order completed') as orders_completed
from events
group by customer_id
