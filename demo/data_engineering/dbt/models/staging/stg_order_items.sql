-- Order lines joined to their order and product, with line totals and the discount given.
select
    items.order_item_id,
    items.order_id,
    items.product_id,
    orders.customer_id,
    orders.order_month,
    orders.is_revenue,
    products.category,
    items.quantity,
    cast(items.unit_price as decimal(10, 2)) as unit_price,
    cast(items.quantity * items.unit_price as decimal(12, 2)) as line_total,
    cast(items.quantity * (products.list_price - items.unit_price) as decimal(12, 2)) as discount_amount
from {{ source('bronze', 'order_items') }} as items
inner join {{ ref('stg_orders') }} as orders
    on items.order_id = orders.order_id
inner join {{ ref('stg_products') }} as products
    on items.product_id = products.product_id
