import { describe, expect, it } from "vitest";
import { httpUrl, localHostFrom } from "../../local/settings";

describe("localHostFrom (env HOST)", () => {
  it.each<[string | undefined, { listen: string; connect: string; widened: boolean }]>([
    [undefined, { listen: "127.0.0.1", connect: "127.0.0.1", widened: false }],
    ["", { listen: "127.0.0.1", connect: "127.0.0.1", widened: false }],
    ["127.0.0.2", { listen: "127.0.0.2", connect: "127.0.0.2", widened: false }],
    ["::1", { listen: "::1", connect: "::1", widened: false }],
    ["localhost", { listen: "localhost", connect: "localhost", widened: false }],
    ["0.0.0.0", { listen: "0.0.0.0", connect: "127.0.0.1", widened: true }],
    ["::", { listen: "::", connect: "::1", widened: true }],
    [" 192.168.1.20 ", { listen: "192.168.1.20", connect: "192.168.1.20", widened: true }],
  ])("HOST=%j", (value, expected) => {
    expect(localHostFrom(value)).toEqual(expected);
  });

  it("refuses a host name (some environments export HOST=<machine name>), naming HOST", () => {
    expect(() => localHostFrom("mylaptop")).toThrow(/HOST must be an IP address.*"mylaptop"/);
  });

  it("writes URLs with IPv6 addresses in brackets", () => {
    expect(httpUrl("127.0.0.1", 8000)).toBe("http://127.0.0.1:8000");
    expect(httpUrl("::1", 8000)).toBe("http://[::1]:8000");
  });
});
