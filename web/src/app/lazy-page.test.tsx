// @vitest-environment happy-dom
import { act, cleanup, render, screen } from '@testing-library/react'
import { Suspense } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { lazyPage } from './lazy-page.tsx'

const Hello = ({ name }: { name: string }) => <p>Hello {name}</p>

afterEach(cleanup)

describe('lazyPage', () => {
  it('renders at once, without the fallback, when the chunk was preloaded', async () => {
    const page = lazyPage(() => Promise.resolve(Hello))
    await page.preload()
    render(
      <Suspense fallback={<p>Loading</p>}>
        <page.Page name="Ada" />
      </Suspense>,
    )
    expect(screen.getByText('Hello Ada')).toBeTruthy()
    expect(screen.queryByText('Loading')).toBeNull()
  })

  it('suspends while the chunk is still loading, and loads it once', async () => {
    let resolve!: (c: typeof Hello) => void
    const chunk = new Promise<typeof Hello>((r) => (resolve = r))
    const load = vi.fn(() => chunk)
    const page = lazyPage(load)
    // eslint-disable-next-line @typescript-eslint/require-await -- act must be awaited for a suspending render
    await act(async () => {
      render(
        <Suspense fallback={<p>Loading</p>}>
          <page.Page name="Ada" />
        </Suspense>,
      )
    })
    expect(screen.getByText('Loading')).toBeTruthy()
    await act(async () => {
      resolve(Hello)
      await chunk
    })
    expect(await screen.findByText('Hello Ada')).toBeTruthy()
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('tries again after a failed download', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('offline')).mockResolvedValueOnce(Hello)
    const page = lazyPage<{ name: string }>(load)
    await expect(page.preload()).rejects.toThrow('offline')
    await expect(page.preload()).resolves.toBe(Hello)
    expect(load).toHaveBeenCalledTimes(2)
  })
})
