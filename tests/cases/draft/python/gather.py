# verdict: ok
import asyncio


async def fetch(n):
    await asyncio.sleep(0)
    return n


async def main():
    results = await asyncio.gather(fetch(1), fetch(2))
    return results


if __name__ == "__main__":
    asyncio.run(main())
