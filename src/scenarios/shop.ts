/**
 * The "shop" database the demo and scenarios play with: customers, products and orders with a
 * few hundred deterministic rows, plus a view, an index and a function, so that `inspect` has
 * something of each kind to show.
 */

export const SHOP_DATABASE = 'shop';

export const SHOP_COUNTS = { customers: 300, products: 40, orders: 600 } as const;

export const SHOP_SCHEMA_SQL = `
CREATE TABLE customers (
  id         serial PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL UNIQUE,
  city       text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE products (
  id    serial PRIMARY KEY,
  name  text NOT NULL,
  price numeric(10,2) NOT NULL CHECK (price >= 0),
  stock integer NOT NULL DEFAULT 0
);
CREATE TABLE orders (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers,
  product_id  integer NOT NULL REFERENCES products,
  quantity    integer NOT NULL DEFAULT 1,
  ordered_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE VIEW order_totals AS
  SELECT o.customer_id, sum(o.quantity * p.price) AS total
    FROM orders o JOIN products p ON p.id = o.product_id
   GROUP BY o.customer_id;
CREATE FUNCTION customer_total(customer integer) RETURNS numeric
  LANGUAGE sql STABLE
  AS $$ SELECT coalesce(sum(o.quantity * p.price), 0)
          FROM orders o JOIN products p ON p.id = o.product_id
         WHERE o.customer_id = customer $$;
`;

export const SHOP_DATA_SQL = `
INSERT INTO customers (name, email, city)
  SELECT 'Customer ' || i, 'customer' || i || '@example.com', (ARRAY['Lyon', 'Oslo', 'Porto', 'Graz', 'Turku'])[1 + i % 5]
    FROM generate_series(1, ${SHOP_COUNTS.customers}) AS i;
INSERT INTO products (name, price, stock)
  SELECT 'Product ' || i, (5 + i * 37 % 200) + 0.99, i * 7 % 100
    FROM generate_series(1, ${SHOP_COUNTS.products}) AS i;
INSERT INTO orders (customer_id, product_id, quantity, ordered_at)
  SELECT 1 + (i * 7919) % ${SHOP_COUNTS.customers}, 1 + (i * 104729) % ${SHOP_COUNTS.products}, 1 + i % 4,
         now() - make_interval(mins => i)
    FROM generate_series(1, ${SHOP_COUNTS.orders}) AS i;
ANALYZE;
`;
