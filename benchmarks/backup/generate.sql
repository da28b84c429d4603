-- benchmarks/backup data generator, run by psql as the application role after
-- the migrations. Deterministic (setseed), all inside PostgreSQL.
-- Any change to this file but its comment lines rebuilds the cached cluster (its digest is the key).
\set users 300000
\set orders 2200000
SELECT setseed(0.4242);

-- Users: names from common Indian first and last names, unique e-mails,
-- PBKDF2 hashes with random salt and digest (incompressible, as real ones are).
INSERT INTO users (email, full_name, password_hash, role, created_at)
SELECT lower(f) || '.' || lower(l) || g || '@' || d,
       f || ' ' || l,
       'pbkdf2_sha256$120000$' || substr(md5(random()::text), 1, 16) || '$'
           || md5(random()::text) || md5(random()::text),
       CASE WHEN r < 0.96 THEN 'CUSTOMER' WHEN r < 0.995 THEN 'RESTAURANT_ADMIN' ELSE 'ADMIN' END,
       timestamptz '2023-06-01 00:00:00+00' + (g::float8 / :users) * interval '700 days'
           + random() * interval '1 day'
FROM (SELECT g, random() AS r,
             (ARRAY['Aarav','Vivaan','Aditya','Vihaan','Arjun','Sai','Reyansh','Ayaan','Krishna','Ishaan',
                    'Shaurya','Atharv','Advik','Pranav','Rohan','Kabir','Rahul','Karthik','Nikhil','Varun',
                    'Ananya','Diya','Priya','Saanvi','Aadhya','Pari','Myra','Anika','Navya','Kavya',
                    'Ira','Meera','Sneha','Pooja','Lakshmi','Divya','Aishwarya','Nandini','Ritika','Shreya',
                    'Mohammed','Imran','Farhan','Zoya','Ayesha','Fatima','Joseph','Maria','Thomas','Anjali',
                    'Harpreet','Gurpreet','Simran','Manpreet','Deepak','Suresh','Ramesh','Ganesh','Venkat','Lalitha'
                    ])[1 + floor(random() * 60)::int] AS f,
             (ARRAY['Sharma','Verma','Gupta','Iyer','Iyengar','Reddy','Naidu','Rao','Nair','Menon',
                    'Pillai','Kumar','Singh','Patel','Shah','Mehta','Desai','Joshi','Kulkarni','Deshpande',
                    'Banerjee','Chatterjee','Mukherjee','Das','Bose','Ghosh','Sen','Khan','Sheikh','Qureshi',
                    'Fernandes','D''Souza','Pereira','Gill','Sandhu','Dhillon','Bhat','Hegde','Shetty','Kamath',
                    'Raman','Krishnan','Subramanian','Chandrasekhar','Agarwal','Jain','Malhotra','Kapoor','Chopra','Saxena'
                    ])[1 + floor(random() * 50)::int] AS l,
             (ARRAY['gmail.com','gmail.com','gmail.com','yahoo.co.in','outlook.com','hotmail.com',
                    'rediffmail.com','icloud.com','proton.me','quickbite.in'])[1 + floor(random() * 10)::int] AS d
      FROM generate_series(1, :users) AS g) AS u;

-- Orders: time-ordered over two years, most users order rarely and a few often,
-- 1,500 restaurant names (brand and kind), most with one of 30 branches, 1 to 6 items of 218 dishes with
-- optional customisation and a note now and then, prices in rupees and paise.
INSERT INTO orders (user_id, restaurant, items, total_amount, currency, status, created_at)
SELECT o.user_id, o.restaurant, i.items, i.total, 'INR', o.status, o.created_at
FROM (SELECT g,
             4 + floor(:users * power(random(), 1.6))::bigint AS user_id,
             (ARRAY['Saravana','Paradise','Leopold','Karim''s','Naturals','Meghana','Empire','Truffles','Vidyarthi',
                    'MTR','Bademiya','Haldiram''s','Bikanervala','Sagar Ratna','Anand','Shah Ghouse','Bawarchi',
                    'Rameshwaram','Nagarjuna','Andhra Spice','Chung Wah','Mainland','Punjab Grill','Moti Mahal',
                    'Kailash Parbat','Gajalee','Mahesh','Trishna','Koshy''s','Hotel Saravana','Ambur Star',
                    'Arabian Nights','Burger Singh','Wow! Momo','Behrouz','Faasos','Oven Story','La Pino''z',
                    'Chai Point','Third Wave','Domino''s','Pizza Hut','KFC','Subway','Taco Bell','Barbeque Nation',
                    'Copper Chimney','Sukh Sagar','Udupi Krishna','Kamat'])[1 + floor(random() * 50)::int]
                 || ' '
                 || (ARRAY['Bhavan','Biryani','Cafe','Kitchen','Restaurant','Express','Dhaba','Grill','Mess',
                           'Tiffins','Sweets','Bakery','Foods','House','Corner','Point','Palace','Diner','Bistro',
                           'Kitchens','Family Restaurant','Multicuisine','Veg','Non-Veg','Tandoor','Canteen',
                           'Biryani House','Chaat Centre','Juice Bar','Ice Cream'])[1 + floor(random() * 30)::int]
                 || CASE WHEN random() < 0.7 THEN ' - ' || (ARRAY['Koramangala','Indiranagar','HSR Layout',
                           'Whitefield','Jayanagar','Malleshwaram','Bandra West','Andheri East','Powai','Colaba',
                           'Dadar','Connaught Place','Hauz Khas','Saket','Dwarka','Banjara Hills','Gachibowli',
                           'Madhapur','T. Nagar','Adyar','Velachery','Anna Nagar','Salt Lake','Park Street',
                           'Koregaon Park','Baner','Viman Nagar','Kothrud','Sector 29','Cyber City'
                           ])[1 + floor(random() * 30)::int] ELSE '' END AS restaurant,
             1 + floor(power(random(), 1.5) * 6)::int AS n,
             timestamptz '2024-01-01 00:00:00+00' + (g::float8 / :orders) * interval '730 days'
                 + random() * interval '20 minutes' AS created_at,
             CASE WHEN g > :orders - 400 THEN (ARRAY['PLACED','CONFIRMED','PREPARING','OUT_FOR_DELIVERY'])[1 + floor(random() * 4)::int]
                  WHEN random() < 0.91 THEN 'DELIVERED' WHEN random() < 0.7 THEN 'CANCELLED' ELSE 'REFUNDED' END AS status
      FROM generate_series(1, :orders) AS g) AS o
CROSS JOIN LATERAL (
    SELECT jsonb_agg(x.item ORDER BY x.k) AS items, sum(x.qty * x.price) AS total
    FROM (SELECT k, qty, price, item_id,
                 jsonb_build_object('item_id', item_id, 'name', dish, 'qty', qty, 'price', price)
                     || CASE WHEN random() < 0.12
                             THEN jsonb_build_object('note', (ARRAY['less spicy please','no onion no garlic',
                                     'extra chutney','pack the gravy separately','no cutlery needed',
                                     'make it jain','well done','extra cheese','less oil','sugar free',
                                     'add lemon on the side','ring the bell twice'])[1 + floor(random() * 12)::int])
                             ELSE '{}'::jsonb END AS item
          FROM (SELECT k, 1 + floor(power(random(), 3) * 4)::int AS qty, 10000 + floor(random() * 990000)::int AS item_id,
                       round((29 + power(random(), 1.7) * 700)::numeric, CASE WHEN random() < 0.6 THEN 0 ELSE 2 END) AS price,
                       (ARRAY['Masala Dosa','Plain Dosa','Rava Dosa','Set Dosa','Idli Vada','Medu Vada','Pongal',
                              'Filter Coffee','Masala Chai','Lime Soda','Sweet Lassi','Mango Lassi','Buttermilk',
                              'Chicken Biryani','Mutton Biryani','Veg Biryani','Egg Biryani','Hyderabadi Dum Biryani',
                              'Paneer Butter Masala','Butter Chicken','Dal Makhani','Dal Tadka','Chana Masala',
                              'Palak Paneer','Kadai Paneer','Malai Kofta','Aloo Gobi','Bhindi Masala','Rajma Chawal',
                              'Chole Bhature','Pav Bhaji','Vada Pav','Misal Pav','Pani Puri','Sev Puri','Dahi Puri',
                              'Samosa','Kachori','Dhokla','Khandvi','Thepla','Poha','Upma','Uttapam','Appam with Stew',
                              'Kerala Parotta','Butter Naan','Garlic Naan','Tandoori Roti','Lachha Paratha',
                              'Aloo Paratha','Gobi Paratha','Jeera Rice','Curd Rice','Lemon Rice','Tamarind Rice',
                              'Bisi Bele Bath','Sambar Rice','Rasam','Fish Curry','Fish Fry','Prawn Masala',
                              'Chicken 65','Chilli Chicken','Chicken Tikka','Tandoori Chicken','Chicken Lollipop',
                              'Mutton Korma','Rogan Josh','Nihari','Haleem','Seekh Kebab','Galouti Kebab',
                              'Shami Kebab','Reshmi Kebab','Paneer Tikka','Hara Bhara Kebab','Veg Manchurian',
                              'Gobi Manchurian','Hakka Noodles','Schezwan Fried Rice','Veg Fried Rice',
                              'Chicken Fried Rice','Momos (Steamed)','Momos (Fried)','Spring Rolls','Manchow Soup',
                              'Hot and Sour Soup','Sweet Corn Soup','Margherita Pizza','Farmhouse Pizza',
                              'Peppy Paneer Pizza','Chicken Dominator Pizza','Garlic Bread','Veg Burger',
                              'Chicken Burger','Aloo Tikki Burger','French Fries','Peri Peri Fries','Club Sandwich',
                              'Bombay Sandwich','Grilled Sandwich','Cold Coffee','Hot Chocolate','Masala Maggi',
                              'Gulab Jamun','Rasgulla','Rasmalai','Jalebi','Gajar Halwa','Kheer','Payasam',
                              'Mysore Pak','Kaju Katli','Besan Ladoo','Kulfi','Falooda','Tender Coconut Ice Cream',
                              'Chocolate Brownie','Red Velvet Pastry','Black Forest Cake','Tiramisu',
                              'Chicken Shawarma','Falafel Wrap','Hummus with Pita','Chicken Kathi Roll',
                              'Paneer Kathi Roll','Egg Roll','Mutton Seekh Roll','Thali (Veg)','Thali (Non-Veg)',
                              'Mini Meals','Full Meals','Andhra Meals','Chettinad Chicken','Pepper Chicken',
                              'Ghee Roast','Neer Dosa','Kori Rotti','Goan Fish Curry','Pork Vindaloo','Xacuti',
                              'Litti Chokha','Dal Baati Churma','Gatte ki Sabzi','Sarson ka Saag','Makki di Roti',
                              'Amritsari Kulcha','Kadhi Chawal','Kashmiri Pulao','Yakhni Pulao','Malabar Biryani',
                              'Ambur Biryani','Thalassery Biryani','Kolkata Biryani','Chicken Chettinad',
                              'Egg Curry','Egg Bhurji','Masala Omelette','Bread Omelette','Idiyappam',
                              'Puttu Kadala','Dosa Combo','Breakfast Combo','Family Pack Biryani','Party Combo',
                              'Water Bottle','Coke 300ml','Thums Up 750ml','Sprite 300ml','Paan','Extra Raita',
                              'Extra Salan','Papad','Pickle','Onion Salad','Green Salad','Caesar Salad',
                              'Greek Salad','Pasta Arrabiata','Pasta Alfredo','Mac and Cheese','Nachos',
                              'Quesadilla','Burrito Bowl','Tacos (2 pcs)','Sushi Platter','Ramen','Dim Sum Basket',
                              'Thai Green Curry','Pad Thai','Khao Suey','Laphing','Thukpa','Churros',
                              'Waffle with Nutella','Pancake Stack','Belgian Chocolate Shake','Oreo Shake',
                              'Strawberry Smoothie','Watermelon Juice','Fresh Lime Water','Jigarthanda',
                              'Sulaimani Chai','Irani Chai','Bun Maska','Osmania Biscuits','Kheema Pav',
                              'Bheja Fry','Paya Soup','Tunday Kebab','Kakori Kebab','Biryani Rice Only',
                              'Ragi Mudde','Akki Roti','Jolada Rotti','Mangalore Buns','Goli Baje'
                              ])[1 + floor(random() * 218)::int]
                           || CASE WHEN random() < 0.25
                                   THEN ' (' || (ARRAY['Half','Full','Large','Regular','Small','Jumbo','Family Pack',
                                                       'Boneless','Extra Spicy','Mild','Jain','Combo','2 pcs','4 pcs',
                                                       '6 pcs','with Raita','with Salan','Double Cheese'
                                                       ])[1 + floor(random() * 18)::int] || ')'
                                   ELSE '' END AS dish
                FROM generate_series(1, o.n) AS k) AS y) AS x
) AS i;
