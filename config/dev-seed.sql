-- dev-seed.sql — the demo company `./dev run` serves: one company, one user of each working
-- role, one client, and one integration row per provider. Idempotent: run on every start.
INSERT INTO companies (slug, name) VALUES ('demo', 'Demo Services Ltd')
  ON DUPLICATE KEY UPDATE name = VALUES(name);
SET @company = (SELECT id FROM companies WHERE slug = 'demo');

INSERT IGNORE INTO job_ref_counters (company_id, last_number) VALUES (@company, 0);

INSERT INTO clients (company_id, name, email, phone, xero_contact_id)
SELECT @company, 'Acme Facilities', 'accounts@acme.example', '+44 20 7946 0000',
       '9b9ba9e5-e907-4b4e-8210-54d7e97f0d8a'
WHERE NOT EXISTS (SELECT 1 FROM clients WHERE company_id = @company AND name = 'Acme Facilities');
SET @client = (SELECT id FROM clients WHERE company_id = @company AND name = 'Acme Facilities');

INSERT INTO users (company_id, email, name, role, slack_user_id, client_id) VALUES
  (@company, 'admin@demo.example',      'Ada Admin',       'admin',      'U0DEMOADM', NULL),
  (@company, 'manager@demo.example',    'Max Manager',     'manager',    'U0DEMOMGR', NULL),
  (@company, 'contractor@demo.example', 'Cara Contractor', 'contractor', 'U0DEMOCON', NULL),
  (@company, 'client@acme.example',     'Cliff Client',    'client',     'U0DEMOCLI', @client)
  ON DUPLICATE KEY UPDATE name = VALUES(name), role = VALUES(role),
                          slack_user_id = VALUES(slack_user_id), client_id = VALUES(client_id);

-- One integration per provider, keyed by the account id that provider sends; e-mail is
-- routed by recipient through provider 'email' (every email-* endpoint), here a whole domain.
INSERT INTO integrations (company_id, provider, external_id, status, settings) VALUES
  (@company, 'generic',        'demo',                                   'active', NULL),
  (@company, 'contact-form',   'demo',                                   'active', NULL),
  (@company, 'slack',          'T0DEMO0001',                             'active', '{"team_domain":"demo"}'),
  (@company, 'xero',           'a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607',   'active', NULL),
  (@company, 'ghl',            've9EPM428h8vShlRW1KT',                   'active', NULL),
  (@company, 'email',          '*@demo.canticket.test',                  'active', NULL),
  (@company, 'stripe',         'acct_1DemoCanTicket0',                   'active', NULL),
  (@company, 'asana',          '1200000000000001',                       'active', NULL)
  ON DUPLICATE KEY UPDATE status = VALUES(status);
