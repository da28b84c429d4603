-- Demo data. Login: demo@quickbite.local / demo-password (PBKDF2-SHA256 hash below).
INSERT INTO users (email, full_name, password_hash, role) VALUES
  ('demo@quickbite.local',  'Demo Customer', 'pbkdf2_sha256$120000$qb-demo-salt-01$fee6524f34a367dccbf6f29dd402919f41f1f89b88559d6574c28af7b00504f9', 'CUSTOMER'),
  ('priya@quickbite.local', 'Priya Raman',   'pbkdf2_sha256$120000$qb-seed-salt-02$a86bb66c7287e406fbd44cf0e99f2955f42a5ebfb93b2c3a142ec06b1578aa1e', 'CUSTOMER'),
  ('arjun@quickbite.local', 'Arjun Mehta',   'pbkdf2_sha256$120000$qb-seed-salt-03$9974ca62a52fbb2a8169d69b2a53f1fe59d02c3d5710cb80d4157f13a117bb53', 'RESTAURANT_ADMIN');

INSERT INTO orders (user_id, restaurant, items, total_amount, currency, status, created_at) VALUES
  ((SELECT id FROM users WHERE email = 'demo@quickbite.local'),  'Saravana Bhavan',
   '[{"name": "Masala Dosa", "qty": 2, "price": 120.00}, {"name": "Filter Coffee", "qty": 2, "price": 40.00}]', 320.00, 'INR', 'DELIVERED', now() - interval '3 days'),
  ((SELECT id FROM users WHERE email = 'demo@quickbite.local'),  'Paradise Biryani',
   '[{"name": "Chicken Biryani", "qty": 1, "price": 349.00}]', 349.00, 'INR', 'OUT_FOR_DELIVERY', now() - interval '25 minutes'),
  ((SELECT id FROM users WHERE email = 'priya@quickbite.local'), 'Leopold Cafe',
   '[{"name": "Club Sandwich", "qty": 1, "price": 260.50}, {"name": "Lime Soda", "qty": 1, "price": 90.00}]', 350.50, 'INR', 'PLACED', now() - interval '4 minutes'),
  ((SELECT id FROM users WHERE email = 'priya@quickbite.local'), 'Karim''s',
   '[{"name": "Mutton Korma", "qty": 1, "price": 420.00}]', 420.00, 'INR', 'CANCELLED', now() - interval '9 days'),
  ((SELECT id FROM users WHERE email = 'arjun@quickbite.local'), 'Naturals Ice Cream',
   '[{"name": "Tender Coconut", "qty": 3, "price": 85.00}]', 255.00, 'INR', 'PREPARING', now() - interval '12 minutes');
