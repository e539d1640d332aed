def test_login_and_list(client, auth, world):
    response = auth.login("cw_a")
    assert response.status_code == 302
    page = client.get("/families/")
    assert page.status_code == 200
    assert "张伟" in page.get_data(as_text=True)
    assert "王强" not in page.get_data(as_text=True)
