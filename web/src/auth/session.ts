import { useMe } from '../api/queries.ts';
import type { Me, Role } from '../api/types.ts';

/** The signed-in user; only used under AuthGate, which renders nothing until it is known. */
export function useSession(): Me {
  const me = useMe().data;
  if (!me) throw new Error('useSession is used outside of the signed-in pages');
  return me;
}

export interface Permissions {
  role: Role;
  /** Owners and admins: everything in the organisation. */
  manage: boolean;
  /** Anyone but viewers may create and change keys (members only their own). */
  writeKeys: boolean;
  /** Limits, IAM rules and rate limits are set by owners and admins. */
  setPolicy: boolean;
  /** Credentials and members are hidden from members (the API answers 403). */
  seeAdminPages: boolean;
}

export function permissions(role: Role): Permissions {
  const manage = role === 'owner' || role === 'admin';
  return {
    role,
    manage,
    writeKeys: role !== 'viewer',
    setPolicy: manage,
    seeAdminPages: role !== 'member',
  };
}

export const usePermissions = () => permissions(useSession().user.role);

export const ROLE_LABELS: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  viewer: 'Viewer',
};

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  owner: 'Everything, including other owners',
  admin: 'Manages keys, providers, models, projects and members',
  member: 'Creates and manages their own keys; sees their own usage',
  viewer: 'Reads everything, changes nothing',
};
