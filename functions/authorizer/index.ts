/**
 * `$connect` REQUEST authorizer: origin allowlist, token (AuthMode=jwt), rights for `?channels=`.
 * Allow → the rights travel as `requestContext.authorizer`; Deny → 403; 'Unauthorized' → 401.
 */
import { authorizer } from '../../shared/auth/authorizer.js';

export const handler = authorizer;
