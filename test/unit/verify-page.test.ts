import { describe, expect, it } from "vitest";
import { escapeHtml, renderVerifyPage } from "../../src/app/api/verify-page.ts";

describe("the verification link's page", () => {
  it("GIVEN a verified account WHEN rendered THEN 200 and a page that says so", () => {
    const page = renderVerifyPage({ kind: "verified", accountId: "acc-1" });
    expect(page.status).toBe(200);
    expect(page.html).toContain("<h1>Email address verified</h1>");
    expect(page.html).toContain("Account acc-1");
  });

  it("GIVEN an expired link WHEN rendered THEN 410 and a page that says it expired", () => {
    const page = renderVerifyPage({ kind: "expired", accountId: "acc-1" });
    expect(page.status).toBe(410);
    expect(page.html).toContain("<h1>This link has expired</h1>");
  });

  it("GIVEN markup in the account id or reason WHEN rendered THEN it is escaped, never markup (failure mode: HTML injection through the link)", () => {
    const hostile = `<script>alert("x")</script>&'`;
    const expired = renderVerifyPage({ kind: "expired", accountId: hostile });
    const invalid = renderVerifyPage({ kind: "invalid", reason: `no account ${hostile}` });
    for (const page of [expired, invalid]) {
      expect(page.html).not.toContain("<script>");
      expect(page.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    }
    expect(invalid.status).toBe(400);
    expect(invalid.html).toContain("<h1>This link is not valid</h1>");
  });

  it("GIVEN each special character WHEN escaped THEN it becomes its entity", () => {
    expect(escapeHtml(`&<>"'a`)).toBe("&amp;&lt;&gt;&quot;&#39;a");
  });
});
