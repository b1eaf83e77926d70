-- Orders, validated (known statuses only, customer exists) and enriched with calendar fields
-- and the customer's country.
with orders as (
    select
        order_id,
        customer_id,
        lower(trim(status)) as status,
        ordered_at,
        ingested_at
    from {{ source('bronze', 'orders') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.status,
    orders.status in ('delivered', 'shipped', 'processing') as is_revenue,
    orders.ordered_at,
    cast(orders.ordered_at as date) as order_date,
    cast(date_trunc('month', orders.ordered_at) as date) as order_month,
    customers.country_code,
    orders.ingested_at
from orders
inner join {{ ref('stg_customers') }} as customers
    on orders.customer_id = customers.customer_id
where orders.status in ('delivered', 'shipped', 'processing', 'cancelled', 'returned')
