-- Customers, deduplicated (the latest load of each customer wins) and standardized.
with ranked as (
    select
        *,
        row_number() over (partition by customer_id order by ingested_at desc, signup_at desc) as load_rank
    from {{ source('bronze', 'customers') }}
)

select
    customer_id,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    trim(first_name) || ' ' || trim(last_name) as full_name,
    lower(trim(email)) as email,
    upper(trim(country)) as country_code,
    signup_at,
    ingested_at
from ranked
where load_rank = 1
