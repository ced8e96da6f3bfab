import { chromium } from 'playwright-core';
const url = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on('console', (m) => console.log('console:', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
for (const hash of process.argv.slice(3)) {
  await page.goto(url + hash);
  await page.waitForTimeout(1200);
  const name = hash.replace(/[^a-z0-9]/gi, '_').slice(0, 40) || 'root';
  await page.screenshot({ path: `/tmp/view-shot-${name}.png`, fullPage: false });
  console.log(hash, (await page.locator('body').innerText()).slice(0, 400).replace(/\n/g, ' | '));
}
await browser.close();
