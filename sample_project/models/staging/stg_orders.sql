-- The seeds stand in for the loader; this makes dbt load them before reading the source.
-- depends_on: {{ ref('raw_orders') }}

with source as (

    select * from {{ source('shop', 'raw_orders') }}

),

renamed as (

    select
        id as order_id,
        user_id as customer_id,
        order_date,
        status

    from source

)

select * from renamed
