/* What frames area k shows: a fingerprint of the pixels of its visible pictures, and its text. */
async (k) => {
  const area = document.querySelector(`[data-nvp-frames="${k}"]`);
  if (!area) return {pictures: [], text: '(not rendered)'};
  const imgs = Array.from(area.querySelectorAll('img')).filter(i => i.offsetParent !== null);
  const pictures = [];
  for (const img of imgs) {
    if (!img.complete) await new Promise(r => { img.onload = r; img.onerror = r; });
    const c = document.createElement('canvas');
    c.width = 48; c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 48, 48);
    const d = g.getImageData(0, 0, 48, 48).data;
    let h = 0;
    for (let i = 0; i < d.length; i++) { h = (h * 31 + d[i]) >>> 0; }
    pictures.push(`${img.naturalWidth}x${img.naturalHeight}:${h}`);
  }
  return {pictures, text: area.innerText};
}
