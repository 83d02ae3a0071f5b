import { principalOf } from '@mercato/platform';

/** Who is looking at a page, as the pages need it: what to show and which links to offer. */
export interface Viewer {
  signedIn: boolean;
  name: string | undefined;
  roles: ReadonlySet<string>;
  canEdit: boolean;
  canAdminister: boolean;
  canAudit: boolean;
  isPremium: boolean;
}

export const anonymous: Viewer = {
  signedIn: false,
  name: undefined,
  roles: new Set(),
  canEdit: false,
  canAdminister: false,
  canAudit: false,
  isPremium: false,
};

/**
 * The viewer from the access token the session holds. Its roles decide only what the pages offer; every service checks
 * the same token again (its sidecar's bearer check, then its own role check), so a hidden link is never the protection.
 */
export function viewerOf(accessToken: string | undefined, displayName: string | undefined, resourceClient: string): Viewer {
  const principal = accessToken ? principalOf(`Bearer ${accessToken}`, resourceClient) : undefined;
  if (!principal) return anonymous;
  const roles = principal.roles;
  return {
    signedIn: true,
    name: displayName ?? principal.username,
    roles,
    canEdit: roles.has('editor') || roles.has('admin'),
    canAdminister: roles.has('admin'),
    canAudit: roles.has('auditor') || roles.has('admin'),
    isPremium: roles.has('premium'),
  };
}
