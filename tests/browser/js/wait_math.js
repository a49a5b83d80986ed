/* Wait until MathJax 3 has started and typeset the page; true when the page loads MathJax. */
async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  if (mj && mj.typesetPromise) { await mj.typesetPromise(); }
  return !!mj;
}
