/* Whether every widget view of the page is rendered (polled until true). */
() => Array.from(
  document.querySelectorAll('script[type="__WIDGET_VIEW__"]')).every(__RENDERED__)
