-- The calendar the dbt Semantic Layer aggregates metrics over (its time spine):
-- one row per day of the shop's trading years.
with days as (

    select
        cast(unnest(generate_series(date '2023-01-01', date '2026-12-31', interval 1 day)) as date)
            as calendar_date

)

select * from days
