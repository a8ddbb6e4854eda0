-- Every index on deliveries is written on each insert and on each update that is not HOT
-- (an attempt's outcome changes indexed columns). Two did work others can do:
-- * deliveries_created ordered the delivery log newest first: ids begin with their
--   creation time, so the primary key gives that order.
-- * deliveries_due gave the next due time; it is now read per subscription from
--   deliveries_open_due.
DROP INDEX deliveries_created;
DROP INDEX deliveries_due;
