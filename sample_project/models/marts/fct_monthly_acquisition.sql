with customer_orders as (

    select * from {{ ref('int_customer_orders') }}

),

monthly as (

    select
        cast(date_trunc('month', first_order_date) as date) as month_start_date,
        count(*) as acquired_customers

    from customer_orders

    group by 1

)

select * from monthly
