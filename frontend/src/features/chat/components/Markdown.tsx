import Markdown_, { type MarkdownToJSX } from 'markdown-to-jsx'
import type { ReactNode } from 'react'

// Raw HTML in a reply is shown as text, never rendered, and the built-in sanitizer drops
// `javascript:` and other unsafe URLs. Links open outside the app, without a handle on this tab.
const options: MarkdownToJSX.Options = {
  disableParsingRawHTML: true,
  forceBlock: true,
  overrides: {
    a: {
      component: ({ href, children }: { href?: string; children?: ReactNode }) => (
        <a
          href={href}
          target="_blank"
          rel="noopener noreferrer"
          className="text-purple-300 underline"
        >
          {children}
        </a>
      ),
    },
  },
}

export function Markdown({ text }: { text: string }) {
  return (
    <div className="space-y-2 break-words [&_code]:rounded [&_code]:bg-black/30 [&_code]:px-1 [&_ol]:list-decimal [&_ol]:pl-5 [&_pre]:overflow-x-auto [&_ul]:list-disc [&_ul]:pl-5">
      <Markdown_ options={options}>{text}</Markdown_>
    </div>
  )
}
