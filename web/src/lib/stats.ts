/** One row of a ranking (top keys, top models), as the overview lists it. */
export interface Ranked {
  name: string;
  requests: number;
  cost: number;
  tokens: number;
}
