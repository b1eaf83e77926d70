-- Products with a normalized category and a price tier.
select
    product_id,
    trim(name) as product_name,
    upper(substr(trim(category), 1, 1)) || lower(substr(trim(category), 2)) as category,
    cast(unit_price as decimal(10, 2)) as list_price,
    case
        when unit_price < 20 then 'budget'
        when unit_price < 200 then 'standard'
        else 'premium'
    end as price_tier,
    ingested_at
from {{ source('bronze', 'products') }}
