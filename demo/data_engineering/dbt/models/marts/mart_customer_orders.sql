-- One row per customer: order history and lifetime value (revenue orders only).
with order_totals as (
    select
        order_id,
        sum(line_total) as order_total
    from {{ ref('stg_order_items') }}
    group by order_id
),

customer_orders as (
    select
        orders.customer_id,
        count(*) as order_count,
        min(orders.ordered_at) as first_order_at,
        max(orders.ordered_at) as last_order_at,
        coalesce(sum(order_totals.order_total), 0) as lifetime_value
    from {{ ref('stg_orders') }} as orders
    left join order_totals
        on orders.order_id = order_totals.order_id
    where orders.is_revenue
    group by orders.customer_id
)

select
    customers.customer_id,
    customers.full_name,
    customers.email,
    customers.country_code as country,
    coalesce(customer_orders.order_count, 0) as order_count,
    customer_orders.first_order_at,
    customer_orders.last_order_at,
    cast(coalesce(customer_orders.lifetime_value, 0) as decimal(14, 2)) as lifetime_value,
    cast(case when customer_orders.order_count > 0
              then customer_orders.lifetime_value / customer_orders.order_count end as decimal(14, 2))
        as avg_order_value
from {{ ref('stg_customers') }} as customers
left join customer_orders
    on customers.customer_id = customer_orders.customer_id
