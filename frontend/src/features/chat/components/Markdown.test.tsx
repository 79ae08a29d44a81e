import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'

import { Markdown } from './Markdown'

describe('Markdown', () => {
  it('renders emphasis, lists and code', () => {
    const { container } = render(<Markdown text={'Hi **there**\n\n- one\n- two\n\n`x = 1`'} />)
    expect(screen.getByText('there').tagName).toBe('STRONG')
    expect(container.querySelectorAll('li')).toHaveLength(2)
    expect(screen.getByText('x = 1').tagName).toBe('CODE')
  })

  it('shows raw HTML as text and never runs it', () => {
    const { container } = render(<Markdown text={'<img src=x onerror="alert(1)"> <b>bold</b>'} />)
    expect(container.querySelector('img')).toBeNull()
    expect(container.querySelector('b')).toBeNull()
    expect(container.textContent).toContain('<b>bold</b>')
  })

  it('drops javascript: links and opens the others in a new tab', () => {
    const { container } = render(
      <Markdown text={'[bad](javascript:alert(1)) and [good](https://example.com)'} />,
    )
    const links = [...container.querySelectorAll('a')]
    expect(links.some((a) => a.getAttribute('href')?.startsWith('javascript'))).toBe(false)
    const good = screen.getByRole('link', { name: 'good' })
    expect(good).toHaveAttribute('href', 'https://example.com')
    expect(good).toHaveAttribute('target', '_blank')
    expect(good).toHaveAttribute('rel', 'noopener noreferrer')
  })
})
