with orders as (

    select * from {{ ref('stg_orders') }}

),

order_payments as (

    select * from {{ ref('int_order_payments') }}

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.order_date,
        orders.status,
        orders.status = 'completed' as is_completed,
        cast(coalesce(order_payments.credit_card_amount, 0) as decimal(18, 2)) as credit_card_amount,
        cast(coalesce(order_payments.coupon_amount, 0) as decimal(18, 2)) as coupon_amount,
        cast(coalesce(order_payments.bank_transfer_amount, 0) as decimal(18, 2)) as bank_transfer_amount,
        cast(coalesce(order_payments.gift_card_amount, 0) as decimal(18, 2)) as gift_card_amount,
        cast(coalesce(order_payments.total_amount, 0) as decimal(18, 2)) as total_amount

    from orders

    left join order_payments
        on orders.order_id = order_payments.order_id

)

select * from final
