/**
 * The tool lists a signed-in caller must see in demo mode, sorted, written out literally (not derived
 * from the registry) so a test fails if the registry's filtering changes.
 */
export const DEMO_USER_TOOLS = [
  'auth_status',
  'available_users',
  'hello_world',
  'oauth_info',
  'protected_data',
  'quick_login',
  'user_profile',
] as const;

export const DEMO_ADMIN_TOOLS = [...DEMO_USER_TOOLS, 'admin_panel'].sort();
