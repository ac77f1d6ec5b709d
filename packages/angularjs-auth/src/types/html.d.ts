// Component templates are .html files that esbuild inlines as strings (loader: text).
declare module '*.html' {
  const template: string;
  export default template;
}
