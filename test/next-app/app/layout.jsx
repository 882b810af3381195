// A server component: the HTML shell, rendered on the server only.
export const metadata = { title: 'syncline in Next.js' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
