import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { get } from './client.ts';
import type {
  ApiKey,
  Credential,
  Me,
  Member,
  Model,
  Organization,
  Project,
  Provider,
  UsageBucketSize,
  UsageDimension,
  UsagePage,
  UsageSeries,
  UsageTop,
} from './types.ts';

/** One place for query keys, so that a change can refresh every view of the same thing. */
export const keys = {
  me: ['me'] as const,
  apiKeys: ['api-keys'] as const,
  projects: ['projects'] as const,
  credentials: ['credentials'] as const,
  providers: ['providers'] as const,
  models: ['models'] as const,
  users: ['users'] as const,
  organization: ['organization'] as const,
  usage: ['usage'] as const,
};

export const useMe = () => useQuery({ queryKey: keys.me, queryFn: () => get<Me>('/api/auth/me'), retry: false });

export const useApiKeys = () =>
  useQuery({ queryKey: keys.apiKeys, queryFn: async () => (await get<{ keys: ApiKey[] }>('/api/v1/keys')).keys });

export const useProjects = () =>
  useQuery({
    queryKey: keys.projects,
    queryFn: async () => (await get<{ projects: Project[] }>('/api/v1/projects')).projects,
  });

export const useCredentials = (enabled = true) =>
  useQuery({
    queryKey: keys.credentials,
    queryFn: async () => (await get<{ credentials: Credential[] }>('/api/v1/credentials')).credentials,
    enabled,
  });

export const useProviders = () =>
  useQuery({
    queryKey: keys.providers,
    queryFn: async () => (await get<{ providers: Provider[] }>('/api/v1/providers')).providers,
    staleTime: Number.POSITIVE_INFINITY,
  });

export const useModels = () =>
  useQuery({ queryKey: keys.models, queryFn: async () => (await get<{ models: Model[] }>('/api/v1/models')).models });

export const useUsers = (enabled = true) =>
  useQuery({
    queryKey: keys.users,
    queryFn: async () => (await get<{ users: Member[] }>('/api/v1/users')).users,
    enabled,
  });

export const useOrganization = (enabled = true) =>
  useQuery({
    queryKey: keys.organization,
    queryFn: () => get<Organization>('/api/v1/organization'),
    enabled,
  });

export interface UsageFilters {
  key?: string | undefined;
  project?: string | undefined;
  model?: string | undefined;
  provider?: string | undefined;
  status?: number | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

/** One page of usage records (newest first) and the totals for the same filters. */
export const useUsagePage = (filters: UsageFilters, cursor: number | undefined, limit = 50) =>
  useQuery({
    queryKey: [...keys.usage, 'page', filters, cursor, limit],
    queryFn: () => get<UsagePage>('/api/v1/usage', { ...filters, cursor, limit }),
    placeholderData: keepPreviousData,
  });

/** The totals alone (sums and latency percentiles) for the filters, over every matching record. */
export const useUsageTotals = (filters: UsageFilters) =>
  useQuery({
    queryKey: [...keys.usage, 'totals', filters],
    queryFn: async () => (await get<UsagePage>('/api/v1/usage', { ...filters, limit: 1 })).totals,
  });

/** Requests, errors, tokens, cost and latency per time bucket, computed by Tollgate. */
export const useUsageSeries = (filters: UsageFilters, bucket: UsageBucketSize) =>
  useQuery({
    queryKey: [...keys.usage, 'series', filters, bucket],
    queryFn: () => get<UsageSeries>('/api/v1/usage/series', { ...filters, bucket }),
    placeholderData: keepPreviousData,
  });

/** The costliest keys, models, providers or projects for the filters. */
export const useUsageTop = (by: UsageDimension, filters: UsageFilters, limit = 10) =>
  useQuery({
    queryKey: [...keys.usage, 'top', by, filters, limit],
    queryFn: async () => (await get<UsageTop>('/api/v1/usage/top', { ...filters, by, limit })).rows,
  });
