// The Management API's answers, as far as the console reads them (Auth0's shapes).

export type ResourceServer = {
  id: string;
  name: string;
  identifier: string;
  is_system: boolean;
  scopes: { value: string; description: string }[];
  signing_alg: string;
  token_lifetime: number;
  allow_offline_access: boolean;
  enforce_policies: boolean;
  token_dialect: 'access_token' | 'access_token_authz' | 'rfc9068_profile' | 'rfc9068_profile_authz';
  proof_of_possession: { mechanism: 'dpop'; required: boolean } | null;
};

export type Client = {
  client_id: string;
  name: string;
  app_type: 'spa' | 'regular_web' | 'non_interactive';
  is_first_party: boolean;
  callbacks: string[];
  allowed_logout_urls: string[];
  web_origins: string[];
  grant_types: string[];
  client_secret?: string;
};

export type User = {
  user_id: string;
  email: string;
  name: string;
  blocked: boolean;
  created_at: string;
};

export type Role = { id: string; name: string; description: string };

export type Permission = {
  permission_name: string;
  description: string;
  resource_server_name: string;
  resource_server_identifier: string;
  sources?: { source_name: string }[];
};

export const APP_TYPES: Record<Client['app_type'], string> = {
  spa: 'Single Page Application',
  regular_web: 'Regular Web Application',
  non_interactive: 'Machine to Machine',
};
