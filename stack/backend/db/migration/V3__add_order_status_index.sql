-- Order tracking queries filter by status.
CREATE INDEX idx_orders_status ON orders (status);
