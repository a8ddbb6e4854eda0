-- The demo CRM's own tables (the application's, not Hookline's), with a few seed rows.
CREATE TABLE company (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  domain TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE contact (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  email TEXT,
  company_id INTEGER REFERENCES company (id),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE deal (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  amount REAL NOT NULL DEFAULT 0,
  currency TEXT NOT NULL DEFAULT 'EUR',
  stage TEXT NOT NULL DEFAULT 'lead',
  is_project INTEGER NOT NULL DEFAULT 0 CHECK (is_project IN (0, 1)),
  company_id INTEGER REFERENCES company (id),
  contact_id INTEGER REFERENCES contact (id),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO company (name, domain) VALUES ('Acme Industries', 'acme.example'), ('Globex', 'globex.example');
INSERT INTO contact (first_name, last_name, email, company_id) VALUES
  ('Ada', 'Lovelace', 'ada@acme.example', 1),
  ('Grace', 'Hopper', 'grace@globex.example', 2);
INSERT INTO deal (name, amount, currency, stage, is_project, company_id, contact_id) VALUES
  ('Acme website redesign', 12000, 'EUR', 'proposal', 1, 1, 1),
  ('Globex support renewal', 3000, 'EUR', 'negotiation', 0, 2, 2);
