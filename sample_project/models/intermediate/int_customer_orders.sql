with orders as (

    select * from {{ ref('stg_orders') }}

),

order_payments as (

    select * from {{ ref('int_order_payments') }}

),

customer_orders as (

    select
        orders.customer_id,
        min(orders.order_date) as first_order_date,
        max(orders.order_date) as most_recent_order_date,
        count(orders.order_id) as number_of_orders,
        coalesce(sum(order_payments.total_amount), 0) as lifetime_value

    from orders

    left join order_payments
        on orders.order_id = order_payments.order_id

    group by orders.customer_id

)

select * from customer_orders
