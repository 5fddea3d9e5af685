import { Alert, Badge, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconFileCode } from '@tabler/icons-react';

/**
 * Objects a declarative tollgate.yaml manages (`managedBy` in the admin API's answers): a badge
 * in their lists, and a warning where they are edited, since the next apply of the file
 * overwrites what is changed here (docs/tollgate-yaml.md).
 */
export function ManagedBadge({ managedBy }: { managedBy: string | null | undefined }) {
  if (!managedBy) return null;
  return (
    <Tooltip
      label={`Described in ${managedBy}: the next apply of the file overwrites changes made here.`}
      multiline
      w={260}
      withinPortal
    >
      <Badge
        size="xs"
        variant="light"
        color="indigo"
        tt="none"
        leftSection={<IconFileCode size={12} />}
        tabIndex={0}
        data-testid="managed-badge"
      >
        managed by {managedBy}
      </Badge>
    </Tooltip>
  );
}

export function ManagedWarning({ managedBy, kind }: { managedBy: string | null | undefined; kind: string }) {
  if (!managedBy) return null;
  return (
    <Alert
      color="yellow"
      variant="light"
      icon={<IconAlertTriangle size={18} />}
      title={`This ${kind} is managed by ${managedBy}`}
      data-testid="managed-warning"
    >
      Changes saved here last only until the file is applied again (tollgate apply, or a restart with TOLLGATE_CONFIG
      set), which puts back what the file says. Change the file instead.
    </Alert>
  );
}

/** What a deletion confirmation adds for a managed object. */
export function managedDeletionNote(managedBy: string | null | undefined): string {
  return managedBy ? ` It is managed by ${managedBy}: the next apply of the file creates it again.` : '';
}
