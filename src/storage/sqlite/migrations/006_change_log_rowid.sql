-- The change log's ids without AUTOINCREMENT: it wrote sqlite_sequence on every tracked
-- insert, a quarter of a tracked table's insert rate. SQLite gives a new row an id above
-- every row in the table, so the log still reads in commit order; an id reused once its
-- change was consumed and deleted is harmless, as nothing keeps consumed ids.
-- The capture triggers name hookline_changes in their bodies: the legacy rename leaves
-- them as they are, and they write to the new table under the old name.
PRAGMA legacy_alter_table = ON;
CREATE TABLE hookline_changes_new (
  id INTEGER PRIMARY KEY,
  table_name TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  row_id ANY,
  old_row TEXT,
  new_row TEXT,
  created_at INTEGER NOT NULL,
  error TEXT
) STRICT;
INSERT INTO hookline_changes_new SELECT * FROM hookline_changes;
DROP TABLE hookline_changes;
ALTER TABLE hookline_changes_new RENAME TO hookline_changes;
DELETE FROM sqlite_sequence WHERE name = 'hookline_changes';
PRAGMA legacy_alter_table = OFF;
