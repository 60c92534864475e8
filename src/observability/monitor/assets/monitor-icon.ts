/** Favicon of the `/monitor` page (declared by the page, so browsers do not probe `/favicon.ico`). */
export const MONITOR_ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0f1419"/><polyline points="2,11 5,8 8,10 11,4 14,6" fill="none" stroke="#58a6ff" stroke-width="1.6"/></svg>
`;
