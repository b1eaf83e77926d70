-- Monthly revenue per country with its trend: the previous month and month-over-month growth.
with monthly as (
    select
        items.order_month,
        orders.country_code as country,
        count(distinct items.order_id) as order_count,
        sum(items.line_total) as revenue
    from {{ ref('stg_order_items') }} as items
    inner join {{ ref('stg_orders') }} as orders
        on items.order_id = orders.order_id
    where items.is_revenue
    group by items.order_month, orders.country_code
)

select
    order_month,
    country,
    order_count,
    cast(revenue as decimal(14, 2)) as revenue,
    cast(lag(revenue) over (partition by country order by order_month) as decimal(14, 2)) as revenue_prev_month,
    round(100.0 * (revenue - lag(revenue) over (partition by country order by order_month))
          / nullif(lag(revenue) over (partition by country order by order_month), 0), 2) as revenue_growth_pct,
    cast(sum(revenue) over (partition by country order by order_month
                            rows between unbounded preceding and current row) as decimal(16, 2))
        as revenue_to_date
from monthly
