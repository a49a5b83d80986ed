/* Scroll through the page (lazy images load), back to the top, and wait (at most 10 s) for
   every image to load or fail. */
async () => {
  const step = Math.max(200, Math.floor(window.innerHeight * 0.9));
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    window.scrollTo(0, y);
    await new Promise(r => setTimeout(r, 15));
  }
  window.scrollTo(0, 0);
  const pending = Array.from(document.images).filter(i => !i.complete).map(i => new Promise(r => {
    i.addEventListener('load', r, {once: true});
    i.addEventListener('error', r, {once: true});
  }));
  await Promise.race([Promise.all(pending), new Promise(r => setTimeout(r, 10000))]);
}
