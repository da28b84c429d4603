-- Food orders placed by users.
CREATE TABLE orders (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT        NOT NULL REFERENCES users (id),
    restaurant   VARCHAR(200)  NOT NULL,
    items        JSONB         NOT NULL DEFAULT '[]'::jsonb,
    total_amount NUMERIC(10,2) NOT NULL CHECK (total_amount >= 0),
    currency     CHAR(3)       NOT NULL DEFAULT 'INR',
    status       VARCHAR(32)   NOT NULL DEFAULT 'PLACED',
    created_at   TIMESTAMPTZ   NOT NULL DEFAULT now()
);
CREATE INDEX idx_orders_user_id ON orders (user_id);
