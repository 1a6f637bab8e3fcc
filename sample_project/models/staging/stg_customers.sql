-- The seeds stand in for the loader; this makes dbt load them before reading the source.
-- depends_on: {{ ref('raw_customers') }}

with source as (

    select * from {{ source('shop', 'raw_customers') }}

),

renamed as (

    select
        id as customer_id,
        first_name,
        last_name

    from source

)

select * from renamed
