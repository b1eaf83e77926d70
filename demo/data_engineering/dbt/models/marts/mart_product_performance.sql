-- One row per product: units, revenue, orders and its revenue rank overall and in its category.
with sales as (
    select
        product_id,
        sum(quantity) as units_sold,
        sum(line_total) as revenue,
        count(distinct order_id) as order_count,
        sum(discount_amount) as discount_given
    from {{ ref('stg_order_items') }}
    where is_revenue
    group by product_id
)

select
    products.product_id,
    products.product_name,
    products.category,
    products.price_tier,
    coalesce(sales.units_sold, 0) as units_sold,
    cast(coalesce(sales.revenue, 0) as decimal(14, 2)) as revenue,
    coalesce(sales.order_count, 0) as order_count,
    cast(coalesce(sales.discount_given, 0) as decimal(14, 2)) as discount_given,
    rank() over (order by coalesce(sales.revenue, 0) desc, products.product_id) as revenue_rank,
    rank() over (partition by products.category
                 order by coalesce(sales.revenue, 0) desc, products.product_id) as category_rank
from {{ ref('stg_products') }} as products
left join sales
    on products.product_id = sales.product_id
