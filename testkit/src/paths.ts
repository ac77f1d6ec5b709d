// Where the programs under test are: the harnesses start them by path, as a user would, never import them.
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const AUTH_SERVER_DIR = fileURLToPath(new URL('../../apps/auth-server/', import.meta.url));
export const API_DIR = fileURLToPath(new URL('../../apps/api/', import.meta.url));
