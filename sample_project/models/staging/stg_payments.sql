-- The seeds stand in for the loader; this makes dbt load them before reading the source.
-- depends_on: {{ ref('raw_payments') }}

with source as (

    select * from {{ source('shop', 'raw_payments') }}

),

renamed as (

    select
        id as payment_id,
        order_id,
        payment_method,
        -- amount is stored in cents, convert it to dollars
        cast(amount as decimal(18, 2)) / 100 as amount

    from source

)

select * from renamed
