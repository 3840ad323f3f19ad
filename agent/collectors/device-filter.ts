/**
 * Include/exclude regular expressions for device names, mount points and file system types, with
 * node_exporter's semantics: a name is ignored when it matches the exclude pattern or when an
 * include pattern is set and the name does not match it. An empty pattern is "not set".
 */
export class DeviceFilter {
  private readonly exclude: RegExp | undefined;
  private readonly include: RegExp | undefined;
  /** Device names and mount points rarely change, so each is matched once, not every cycle. */
  private readonly memo = new Map<string, boolean>();

  /**
   * @param where names the options in errors, e.g. "collectors.diskstats.deviceExclude", so a bad
   *   configuration fails at start-up with a message that says which key to fix.
   */
  constructor(exclude: string, include: string, where: { exclude: string; include: string }) {
    this.exclude = compile(exclude, where.exclude);
    this.include = compile(include, where.include);
  }

  ignored(name: string): boolean {
    let verdict = this.memo.get(name);
    if (verdict === undefined) {
      verdict = this.exclude?.test(name) === true || (this.include !== undefined && !this.include.test(name));
      // Bounded: container hosts create and destroy interfaces and mounts all day.
      if (this.memo.size >= 4096) this.memo.clear();
      this.memo.set(name, verdict);
    }
    return verdict;
  }
}

function compile(pattern: string, where: string): RegExp | undefined {
  if (pattern === '') return undefined;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new Error(`${where}: invalid regular expression ${JSON.stringify(pattern)}`, { cause: error });
  }
}
