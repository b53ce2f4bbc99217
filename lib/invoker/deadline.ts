/** `promise`, or a rejection with `message` once `ms` have passed (the timer is cleared either way). */
export function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
