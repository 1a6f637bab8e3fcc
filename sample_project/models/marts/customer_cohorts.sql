-- DELIBERATE: a mart without the fct_/dim_ prefix -> naming/model-prefix (error, locked).

with customer_orders as (

    select * from {{ ref('int_customer_orders') }}

),

cohorts as (

    select
        cast(date_trunc('month', first_order_date) as date) as cohort_date,
        count(*) as customers_in_cohort,
        count(*) filter (where number_of_orders > 1) as repeat_customers,
        sum(lifetime_value) as cohort_lifetime_value

    from customer_orders

    group by 1

)

select * from cohorts
