-- Every index on deliveries is written on each insert and each attempt's outcome. The
-- next due time is now read per subscription from hookline_deliveries_open_due.
DROP INDEX hookline_deliveries_due;
