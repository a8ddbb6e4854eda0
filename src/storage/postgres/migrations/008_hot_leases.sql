-- Room on each page for a row's next version: a claim changes only `lease_until`, which no
-- index holds, so with free space on the page PostgreSQL updates the row in place (a HOT
-- update) instead of adding an entry to each of the table's indexes. Applies to pages
-- written from now on.
ALTER TABLE deliveries SET (fillfactor = 70);
ALTER TABLE subscriptions SET (fillfactor = 70);
